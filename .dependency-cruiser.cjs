/**
 * What may import what (issue 29), checked by `npm run lint`: no import cycle anywhere, no file
 * outside a test folder imports from one, nothing imports from a scripts/ folder (shared code
 * lives in a library folder), and app/'s own code imports nothing outside app/.
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
    {
      name: "no-scripts-imports",
      severity: "error",
      comment:
        "A scripts/ folder holds entry points only: nothing imports from one (what entry points share lives in a library folder: lib/, app/lib/, tools/*/src/).",
      from: {},
      to: { path: "(^|/)scripts/", pathNot: "(^|/)node_modules/" },
    },
    {
      name: "app-self-contained",
      severity: "error",
      comment:
        "app/ is its own package (its image's build context): its code imports only app/ files and its own dependencies (the root's tools and tests may import app/).",
      from: { path: "^app/(src|lib|scripts)/" },
      to: { pathNot: "^app/|(^|/)node_modules/", dependencyTypesNot: ["core"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|dist|\\.cache)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
