// User and group names → numeric ids, read straight from /etc/passwd and
// /etc/group. No NSS: accounts that live only in LDAP/SSSD are not found by
// name (their numeric id still works), which keeps the binary free of libc
// lookups for one flag.

const PASSWD = "/etc/passwd";
const GROUP = "/etc/group";

/** Parse the `name:…:id:…` databases: the id is the third field. */
export function parseAccountDatabase(text: string): Map<string, number> {
  const ids = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(":");
    if (fields.length < 3) continue;
    const [name, , idText] = fields;
    if (name === "" || !/^\d+$/.test(idText)) continue;
    const id = Number(idText);
    // The first entry wins, as getpwnam/getgrnam do.
    if (id <= 0xffff_ffff && !ids.has(name)) ids.set(name, id);
  }
  return ids;
}

function lookup(file: string, name: string): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    return undefined;
  }
  return parseAccountDatabase(text).get(name);
}

/** The uid of user `name`, or undefined when /etc/passwd has no such user. */
export function lookupUserId(name: string): number | undefined {
  return lookup(PASSWD, name);
}

/** The gid of group `name`, or undefined when /etc/group has no such group. */
export function lookupGroupId(name: string): number | undefined {
  return lookup(GROUP, name);
}
