import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

async function violations(path: string) {
  const { stdout } = await run(
    "npx",
    ["depcruise", path, "--config", ".dependency-cruiser.cjs", "--output-type", "json"],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  ).catch((e) => e as { stdout: string }); // depcruise exits non-zero when it finds violations
  const result = JSON.parse(stdout);
  return result.summary.violations.map((v: { rule: { name: string }; from: string; to: string }) => ({
    rule: v.rule.name,
    from: v.from,
    to: v.to,
  }));
}

describe("architecture seams", () => {
  it("the source tree has no forbidden imports", async () => {
    expect(await violations("src")).toEqual([]);
  });

  it("the rules fire on known-bad fixtures", async () => {
    const found = await violations("test/architecture/fixtures/src");
    const rules = new Set(found.map((v: { rule: string }) => v.rule));
    expect(rules).toEqual(
      new Set([
        "tracker-library-is-host-free",
        "routes-and-pages-use-services-not-storage",
        "runtime-never-imports-simulators",
        "no-cycles",
        "repository-stays-in-its-feature",
        "host-never-imports-the-dashboard",
      ]),
    );
  });

  it("a feature may use its own repository, and the composition root may build any and wire the dashboard", async () => {
    const found: { from: string }[] = await violations("test/architecture/fixtures/src");
    const from = new Set(found.map((v) => v.from.replace(/^.*fixtures\/src\//, "")));
    expect(from).not.toContain("host/bad/service.ts");
    expect(from).not.toContain("app/compose.ts");
    // Both ways to reach another feature's repository are caught: from a feature and from a page.
    expect(from).toContain("host/other/service.ts");
    expect(from).toContain("dashboard/page.ts");
  });
});
