import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where scripts/e2e/build.sh builds the e2e toolchain and every script finds it (`E2E_CACHE` in
 * scripts/e2e/versions.sh): FOOD11_E2E_CACHE, else `~/.cache/food11-e2e` under `home`.
 */
export function e2eCacheDir(home = homedir()): string {
  return process.env.FOOD11_E2E_CACHE ?? join(home, ".cache", "food11-e2e");
}
