import { heavySuite } from "./vitest.heavy.mjs";

// The HTML report suite (test/html): report.html of report, plan and recommend opened in a real
// headless Chromium (Debian's). Run it with `npm run test:html` (scripts/html/test.sh finds or
// installs the browser); not part of `npm test`, which needs no browser.
export default heavySuite("test/html/**/*.html.test.ts", 5, 2);
