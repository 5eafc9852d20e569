import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderSimulator } from "../../src/simulators/core/types.ts";
import { startGitlabSimulator } from "../../src/simulators/gitlab/index.ts";
import { adoRequest } from "../../src/tracker/azure-devops/http.ts";
import type { BindableResource } from "../../src/tracker/core/descriptor.ts";
import { runDiscovery } from "../../src/tracker/core/discovery.ts";
import { GITHUB_RULES } from "../../src/tracker/github/rules.ts";
import { gitlabAdapter } from "../../src/tracker/gitlab/adapter.ts";
import { GITLAB_RULES } from "../../src/tracker/gitlab/http.ts";
import { jiraRequest } from "../../src/tracker/jira/http.ts";
import { fastHttp, trackerFailure } from "../support/tracker.ts";

/** The provider's own words for a refusal reach the user (push and run item errors), without our secrets. */

async function answering(status: number, body: unknown) {
  const server = createServer((_req, res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("provider reasons", () => {
  it("GitHub: a 422 Validation Failed names each failed field", async () => {
    const s = await answering(422, {
      message: "Validation Failed",
      errors: [
        { resource: "Issue", field: "title", code: "missing_field" },
        { message: "labels are too many" },
      ],
    });
    const err = await trackerFailure(
      fastHttp().request(GITHUB_RULES, { method: "POST", url: `${s.url}/x`, json: {} }),
    );
    expect(err.reason).toBe("Validation Failed: title missing_field; labels are too many");
    await s.close();
  });

  it("a reason that echoes the request's credential carries it redacted", async () => {
    const token = "glpat-very-secret-token-123";
    const s = await answering(400, { message: { title: [`is invalid for ${token}`] } });
    const err = await trackerFailure(
      fastHttp().request(GITLAB_RULES, {
        method: "POST",
        url: `${s.url}/x`,
        json: {},
        headers: { "private-token": token },
      }),
    );
    expect(err.reason).toBe("title is invalid for [redacted]");
    expect(JSON.stringify(err)).not.toContain(token);
    await s.close();
  });

  it("Jira and Azure DevOps reasons go through the same redaction: an echoed credential is removed", async () => {
    const password = "ATATT3xFfGF0-jira-api-token-value";
    const jira = await answering(400, { errors: { summary: `rejected for ${password}` } });
    const jiraErr = await trackerFailure(
      jiraRequest(
        {
          base_url: jira.url,
          credential: { kind: "basic", username: "dev@example.com", password },
          http: fastHttp(),
        },
        { method: "POST", url: `${jira.url}/rest/api/3/issue`, json: {} },
      ),
    );
    expect(jiraErr).toMatchObject({ kind: "invalid_request", reason: "summary: rejected for [redacted]" });
    await jira.close();

    const pat = "ado-personal-access-token-0123456789";
    const ado = await answering(400, { message: `TF401320: Rule Error for ${pat}` });
    const adoErr = await trackerFailure(
      adoRequest(
        { base_url: ado.url, credential: { kind: "bearer_pat", token: pat }, http: fastHttp() },
        { method: "PATCH", url: `${ado.url}/acme/_apis/wit/workitems/1`, json: [], jsonPatch: true },
      ),
    );
    expect(adoErr).toMatchObject({ kind: "invalid_request", reason: "TF401320: Rule Error for [redacted]" });
    expect(JSON.stringify([jiraErr, adoErr])).not.toMatch(/jira-api-token|access-token-0123/);
    await ado.close();
  });

  describe("through the GitLab simulator", () => {
    let gl: ProviderSimulator;
    let target: BindableResource;
    const conn = () => ({
      base_url: gl.url,
      credential: { kind: "private_token" as const, token: gl.demo.token },
      http: fastHttp(),
    });
    beforeAll(async () => {
      gl = await startGitlabSimulator({ generatedResources: 0 });
      const [acme] = await gitlabAdapter.listWorkspaces(conn());
      const found: BindableResource[] = [];
      await runDiscovery(gitlabAdapter, conn(), acme, (p) => {
        found.push(...p);
      });
      target = found.find((r) => !r.flags.archived && !r.flags.issues_disabled)!;
    });
    afterAll(() => gl?.close());

    it("a create GitLab refuses carries GitLab's message", async () => {
      const err = await trackerFailure(
        gitlabAdapter.createIssue(conn(), target.connector_params, { title: " " }),
      );
      expect(err.kind).toBe("invalid_request");
      expect(err.reason).toBe("title can't be blank");
    });
  });
});
