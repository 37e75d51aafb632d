// Disposable test fixtures: resources a test owns for exactly one scope,
// released by `using` / `await using` whether the test passes or throws.
//
//   using tmp = scratchDir("musefs-scan-test-");
//   using lib = closing(openLibrary(db, options));
//
// Each release must be safe to run twice and must never hang, so a failing
// test still leaves nothing behind and reports its own error.

/** A temp directory owned by one scope: removed, with everything under it, when the scope ends. */
export interface ScratchDir extends Disposable, AsyncDisposable {
  /** Canonical absolute path (symlinks resolved, so it compares equal to stored paths). */
  readonly path: string;
}

/** A fresh temp directory (real path; under `dir` if given), removed recursively when the scope ends. */
export function scratchDir(prefix = "musefs-test-", options: { dir?: string } = {}): ScratchDir {
  return removing(Deno.realPathSync(Deno.makeTempDirSync({ prefix, dir: options.dir })));
}

/** Take ownership of an existing path: removed recursively (if still there) when the scope ends. */
export function removing(path: string): ScratchDir {
  const remove = () => {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  };
  return {
    path,
    [Symbol.dispose]: remove,
    [Symbol.asyncDispose]: () => Promise.resolve(remove()),
  };
}

/** `x`, closed when the scope ends (for handles whose class has `close()` but no dispose). */
export function closing<T extends { close(): void }>(x: T): T & Disposable {
  return Object.assign(x, { [Symbol.dispose]: () => x.close() });
}
