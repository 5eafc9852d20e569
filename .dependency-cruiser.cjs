/** The seams of DESIGN.md §2, enforced. Patterns match `src/...` anywhere so fixtures can prove each rule fires. */
module.exports = {
  forbidden: [
    {
      name: "tracker-library-is-host-free",
      comment:
        "The tracker library knows providers, not the host: no database, web framework, tenant or simulator.",
      severity: "error",
      from: { path: "(^|/)src/tracker/" },
      to: {
        path: [
          "(^|/)src/(host|storage|dashboard|simulators|demo)/",
          "^node_modules/(fastify|drizzle-orm|pg|@electric-sql)/",
        ],
      },
    },
    {
      name: "routes-and-pages-use-services-not-storage",
      comment: "HTTP routes and dashboard pages go through domain services; only repositories touch storage.",
      severity: "error",
      from: { path: ["(^|/)src/host/.+/routes\\.ts$", "(^|/)src/dashboard/"] },
      to: { path: "(^|/)src/storage/" },
    },
    {
      name: "runtime-never-imports-simulators",
      comment: "Simulators are test, bench and demo infrastructure.",
      severity: "error",
      from: { path: "(^|/)src/(host|tracker|storage|dashboard)/" },
      to: { path: "(^|/)src/simulators/" },
    },
    {
      name: "no-cycles",
      comment: "Modules form layers: a cycle (type imports included) means two modules cannot be read apart.",
      severity: "error",
      from: { path: "(^|/)src/" },
      to: { circular: true },
    },
    {
      name: "repository-stays-in-its-feature",
      comment:
        "A feature's repository is its own: other features, routes and pages call its domain operations. Only the composition root (src/app) builds them.",
      severity: "error",
      from: { path: "(^|/)src/host/([^/]+)/" },
      to: { path: "(^|/)src/host/[^/]+/repository\\.ts$", pathNot: "(^|/)src/host/$2/" },
    },
    {
      name: "repository-stays-in-its-feature",
      comment: "The dashboard, the demo and the host's shared modules reach no repository either.",
      severity: "error",
      from: { path: "(^|/)src/", pathNot: "(^|/)src/(host/[^/]+|app)/" },
      to: { path: "(^|/)src/host/[^/]+/repository\\.ts$" },
    },
    {
      name: "host-never-imports-the-dashboard",
      comment:
        "The dashboard is one client of the domain; the composition root (src/app) wires it in, and hands the host any page it must render.",
      severity: "error",
      from: { path: "(^|/)src/host/" },
      to: { path: "(^|/)src/dashboard/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
