import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The cache root every setup step of the project shares (the pinned Node, the Python environment,
 * verified imports, trained test models, bench:peer's work; `${FOOD11_CACHE:-$HOME/.cache/food11}`
 * in the shell scripts): FOOD11_CACHE, else `~/.cache/food11` under `home`.
 */
export function food11CacheDir(home = homedir()): string {
  return process.env.FOOD11_CACHE ?? join(home, ".cache", "food11");
}
