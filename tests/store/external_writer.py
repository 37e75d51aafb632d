#!/usr/bin/env python3
"""Write to a musefs store the way the beets/Picard plugins (python-musefs) do.

Usage: external_writer.py <db> <operations.json>
Each operation runs inside its own SAVEPOINT; results are printed as JSON.
Operations:
  {"op": "replace_tags", "track_id": N, "tags": {"key": ["v1", "v2"]}}
  {"op": "merge_tags",   "track_id": N, "tags": {"key": ["v1"]}}
  {"op": "upsert_art",   "data_hex": "...", "mime": "image/png"}       -> art id
  {"op": "relink_art",   "track_id": N, "links": [[art, type, "desc"]]}
     where art is an id or "$i" = the result of operation i
Standard library only.
"""
import hashlib
import json
import sqlite3
import sys


def connect(path):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def in_savepoint(conn, fn):
    conn.execute("SAVEPOINT plugin")
    try:
        result = fn()
    except BaseException:
        conn.execute("ROLLBACK TO plugin")
        conn.execute("RELEASE plugin")
        raise
    conn.execute("RELEASE plugin")
    return result


def insert_values(conn, track_id, key, values):
    for ordinal, value in enumerate(values):
        conn.execute(
            "INSERT INTO tags (track_id, key, value, ordinal) VALUES (?, ?, ?, ?)",
            (track_id, key, value, ordinal),
        )


def replace_tags(conn, op):
    conn.execute("DELETE FROM tags WHERE track_id = ? AND value_blob IS NULL", (op["track_id"],))
    for key, values in op["tags"].items():
        insert_values(conn, op["track_id"], key, values)


def merge_tags(conn, op):
    # Managed keys match case-insensitively: scans keep unknown keys in native case.
    for key, values in op["tags"].items():
        conn.execute(
            "DELETE FROM tags WHERE track_id = ? AND value_blob IS NULL AND lower(key) = lower(?)",
            (op["track_id"], key),
        )
        insert_values(conn, op["track_id"], key, values)


def upsert_art(conn, op):
    data = bytes.fromhex(op["data_hex"])
    sha = hashlib.sha256(data).hexdigest()
    conn.execute(
        "INSERT INTO art (sha256, mime, width, height, byte_len, data) "
        "VALUES (?, ?, NULL, NULL, ?, ?) ON CONFLICT(sha256) DO NOTHING",
        (sha, op["mime"], len(data), data),
    )
    return conn.execute("SELECT id FROM art WHERE sha256 = ?", (sha,)).fetchone()[0]


def relink_art(conn, op, results):
    conn.execute("DELETE FROM track_art WHERE track_id = ?", (op["track_id"],))
    for ordinal, (art, picture_type, description) in enumerate(op["links"]):
        if isinstance(art, str) and art.startswith("$"):
            art = results[int(art[1:])]
        conn.execute(
            "INSERT INTO track_art (track_id, art_id, picture_type, description, ordinal) "
            "VALUES (?, ?, ?, ?, ?)",
            (op["track_id"], art, picture_type, description, ordinal),
        )


def main():
    conn = connect(sys.argv[1])
    ops = json.loads(sys.argv[2])
    results = []
    for op in ops:
        kind = op["op"]
        if kind == "replace_tags":
            results.append(in_savepoint(conn, lambda: replace_tags(conn, op)))
        elif kind == "merge_tags":
            results.append(in_savepoint(conn, lambda: merge_tags(conn, op)))
        elif kind == "upsert_art":
            results.append(in_savepoint(conn, lambda: upsert_art(conn, op)))
        elif kind == "relink_art":
            results.append(in_savepoint(conn, lambda: relink_art(conn, op, results)))
        else:
            raise SystemExit("unknown operation " + kind)
    conn.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
