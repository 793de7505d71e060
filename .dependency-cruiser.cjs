/**
 * What may import what (issue 29), checked by `npm run lint`: no import cycle anywhere, and no
 * file outside a test folder imports from one (shared code lives in a library folder).
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import cycle between files anywhere in the tree.",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-test-imports",
      severity: "error",
      comment: "A file outside a test folder never imports from a test folder or a *.test file.",
      from: { pathNot: "(^|/)test/|\\.test\\.[cm]?ts$" },
      to: { path: "(^|/)test/|\\.test\\.[cm]?ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|dist|\\.cache)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
