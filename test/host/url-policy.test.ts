import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenConnectFor } from "../../src/demo/simulated.ts";
import { loadConfig } from "../../src/host/config.ts";
import { addressCategory, outboundPolicy } from "../../src/host/http/outbound.ts";
import { installationsRepository } from "../../src/host/installations/repository.ts";
import { createHttpClient, TrackerError } from "../../src/tracker/index.ts";
import { htmlSite, type LocalServer } from "../support/servers.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * Outbound URL policy (issue 12 §6): provider URLs an admin types must be http(s) and public unless the
 * operator allows more; refused ones answer 400 saying why, before any request leaves; the HTTP client
 * checks again on every connection, on the addresses it actually connects to.
 */

describe("address categories", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["fd00:ec2::254", "private"],
    ["100.64.0.1", "shared"],
    ["100.100.100.200", "shared"],
    ["169.254.169.254", "link-local"],
    ["::ffff:169.254.169.254", "link-local"],
    ["64:ff9b::a9fe:a9fe", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
  ])("%s is %s", (address, category) => {
    expect(addressCategory(address)).toBe(category);
  });

  it.each(["8.8.8.8", "140.82.112.3", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])(
    "%s is public",
    (address) => {
      expect(addressCategory(address)).toBeNull();
    },
  );
});

describe("policy configuration", () => {
  const dest = (hostname: string, port: number, ...addresses: string[]) => ({ hostname, port, addresses });

  it("is strict by default and names the reason", () => {
    const { guard } = outboundPolicy();
    expect(guard(dest("gitlab.com", 443, "172.65.251.78"))).toBeNull();
    expect(guard(dest("127.0.0.1", 80, "127.0.0.1"))).toBe("127.0.0.1 is a loopback address (this machine)");
    expect(guard(dest("rebind.example", 443, "93.184.216.34", "10.0.0.5"))).toBe(
      "rebind.example resolves to 10.0.0.5, a private network address",
    );
  });

  it("allows entries by host and port, by IP and by CIDR", () => {
    const { guard } = outboundPolicy({ allow: ["gitlab.internal:8443", "10.20.0.0/16", "[::1]:9000"] });
    expect(guard(dest("gitlab.internal", 8443, "10.9.9.9"))).toBeNull();
    expect(guard(dest("gitlab.internal", 443, "10.9.9.9"))).not.toBeNull();
    expect(guard(dest("jira.internal", 443, "10.20.3.4"))).toBeNull();
    expect(guard(dest("jira.internal", 443, "10.21.3.4"))).not.toBeNull();
    expect(guard(dest("::1", 9000, "::1"))).toBeNull();
    expect(guard(dest("::1", 9001, "::1"))).not.toBeNull();
  });

  it("the private-networks switch does not open cloud metadata", () => {
    const { guard } = outboundPolicy({ allowPrivateNetworks: true });
    expect(guard(dest("gitlab.lan", 443, "192.168.1.10"))).toBeNull();
    expect(guard(dest("127.0.0.1", 80, "127.0.0.1"))).toBeNull();
    expect(guard(dest("169.254.169.254", 80, "169.254.169.254"))).toContain("link-local");
  });

  it("trusts the provider URLs the operator configured", () => {
    const { guard } = outboundPolicy({}, ["http://127.0.0.1:9002"]);
    expect(guard(dest("127.0.0.1", 9002, "127.0.0.1"))).toBeNull();
    expect(guard(dest("127.0.0.1", 9003, "127.0.0.1"))).not.toBeNull();
  });

  it("reads the environment, and refuses an entry it cannot read", () => {
    const config = loadConfig({
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
      OUTBOUND_ALLOW: "a.lan:8443, 10.0.0.0/8",
    });
    expect(config.outbound).toEqual({ allowPrivateNetworks: true, allow: ["a.lan:8443", "10.0.0.0/8"] });
    expect(loadConfig({}).outbound).toEqual({ allowPrivateNetworks: false, allow: [] });
    expect(() => outboundPolicy({ allow: ["http://x/"] })).toThrow(/OUTBOUND_ALLOW/);
  });
});

describe("through the API", () => {
  let t: SimulatedApp;
  let intranet: LocalServer;

  beforeAll(async () => {
    intranet = await htmlSite();
    t = await createSimulatedApp({ providers: ["gitlab"], generatedResources: 0 });
  });
  afterAll(async () => {
    await t?.close();
    await intranet?.close();
  });

  const connectTo = (base_url: string) =>
    t.call({
      method: "POST",
      url: "/api/v1/installations/",
      as: t.admin,
      payload: { ...tokenConnectFor(t.sims.gitlab), base_url },
    });

  it.each([
    ["file:///etc/passwd", "must start with http:// or https:// (not file:)"],
    ["gopher://127.0.0.1:70/_x", "must start with http:// or https:// (not gopher:)"],
    ["javascript:alert(1)", "must start with http:// or https:// (not javascript:)"],
    ["http://user:secret@gitlab.com/", "must not contain a user name or password"],
    ["http://169.254.169.254/latest/meta-data/", "is refused: 169.254.169.254 is a link-local address"],
    ["http://[::ffff:169.254.169.254]/", "is refused: ::ffff:a9fe:a9fe is a link-local address"],
    ["http://0x7f.1:8080/", "is refused: 127.0.0.1 is a loopback address"],
    ["http://10.0.0.5/", "is refused: 10.0.0.5 is a private network address"],
    ["http://localhost:9/", "is refused: localhost resolves to"],
  ])("refuses %s with a 400 that says why", async (url, why) => {
    const before = (await t.services.installations.listForTeam(t.team.id)).length;
    const res = await connectTo(url);
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json();
    expect(body.error_code).toBe("validation_error");
    expect(body.fields[0].field).toBe("body.base_url");
    expect(body.message).toContain(`base_url ${why}`);
    expect(body.message).not.toContain("secret");
    expect((await t.services.installations.listForTeam(t.team.id)).length).toBe(before);
  });

  it("sends nothing to a refused loopback server", async () => {
    const res = await connectTo(intranet.url);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain("a loopback address (this machine)");
    expect(res.json().message).toContain("OUTBOUND_ALLOW");
    expect(intranet.hits).toBe(0);
  });

  it("the allowed simulator connects, by the operator's allow-list", async () => {
    const res = await connectTo(t.sims.gitlab.url);
    expect(res.statusCode, res.body).toBeLessThan(300);
  });

  it("checks again at connection time: a stored URL that now points inside is refused, nothing is sent", async () => {
    const { installationId } = await t.connect("gitlab");
    await installationsRepository(t.database.db).update(installationId, {
      baseUrl: `http://localhost:${new URL(intranet.url).port}`,
    });
    const job = await t.refresh(installationId);
    expect(job.status).toBe("failed");
    expect(JSON.stringify(job.error)).toContain("outbound_url_refused");
    expect(intranet.hits).toBe(0);
  });

  it("the client's guard refuses names and IPs before connecting (no DNS rebinding past the first check)", async () => {
    const { guard } = outboundPolicy();
    const client = createHttpClient({ guard, retry: { maxRetries: 0 } });
    for (const url of [intranet.url, `http://localhost:${new URL(intranet.url).port}/`]) {
      const err = await client.request({ provider: "gitlab" }, { url }).catch((e) => e);
      expect(err).toBeInstanceOf(TrackerError);
      expect(err.kind).toBe("destination_refused");
      expect(err.retryable).toBe(false);
    }
    expect(intranet.hits).toBe(0);
  });
});

describe("operator override", () => {
  let t: SimulatedApp;
  let intranet: LocalServer;

  beforeAll(async () => {
    intranet = await htmlSite();
    t = await createSimulatedApp({
      providers: ["gitlab"],
      generatedResources: 0,
      outbound: { allowPrivateNetworks: true },
    });
  });
  afterAll(async () => {
    await t?.close();
    await intranet?.close();
  });

  it("OUTBOUND_ALLOW_PRIVATE_NETWORKS reaches a loopback server but still not cloud metadata", async () => {
    const call = (base_url: string) =>
      t.call({
        method: "POST",
        url: "/api/v1/installations/",
        as: t.admin,
        payload: { ...tokenConnectFor(t.sims.gitlab), base_url },
      });
    const inside = await call(intranet.url);
    expect(inside.json().error_code).toBe("not_a_provider_server");
    expect(intranet.hits).toBeGreaterThan(0);
    const metadata = await call("http://169.254.169.254/");
    expect(metadata.statusCode).toBe(400);
    expect(metadata.json().message).toContain("link-local");
  });
});
