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
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
