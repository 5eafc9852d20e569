import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * AES-256-GCM for provider credentials at rest. Ciphertexts name the key that made them, so after a
 * rotation (a new key first in CREDENTIALS_KEYS) old rows stay readable and are re-encrypted on next write.
 * The installation id is bound as associated data: a ciphertext copied onto another row does not decrypt.
 */
export interface Vault {
  encrypt(plaintext: unknown, boundTo: string): string;
  decrypt<T = unknown>(ciphertext: string, boundTo: string): T;
  isCurrent(ciphertext: string): boolean;
  /** A stable subkey for another purpose (e.g. signing candidate tokens), derived from the current key. */
  deriveKey(purpose: string): Buffer;
}

interface Key {
  id: string;
  key: Buffer;
}

export function parseKeys(spec: string): Key[] {
  const keys = spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [id, b64] = entry.split(":");
      const key = Buffer.from(b64 ?? "", "base64");
      if (!id || key.length !== 32)
        throw new Error("CREDENTIALS_KEYS entries must be `<id>:<base64 of 32 bytes>`");
      return { id, key };
    });
  if (keys.length === 0) throw new Error("CREDENTIALS_KEYS is empty");
  return keys;
}

export function createVault(keys: Key[]): Vault {
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  const current = keys[0];
  return {
    encrypt(plaintext, boundTo) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", current.key, iv);
      cipher.setAAD(Buffer.from(boundTo));
      const ct = Buffer.concat([cipher.update(JSON.stringify(plaintext), "utf8"), cipher.final()]);
      return [
        "v1",
        current.id,
        iv.toString("base64url"),
        cipher.getAuthTag().toString("base64url"),
        ct.toString("base64url"),
      ].join(".");
    },
    decrypt(ciphertext, boundTo) {
      const [version, keyId, iv, tag, ct] = ciphertext.split(".");
      const key = byId.get(keyId);
      if (version !== "v1" || !key)
        throw new Error(`credentials were encrypted with an unknown key '${keyId}'`);
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(boundTo));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      const pt = Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString(
        "utf8",
      );
      return JSON.parse(pt);
    },
    isCurrent(ciphertext) {
      return ciphertext.split(".")[1] === current.id;
    },
    deriveKey(purpose) {
      return Buffer.from(hkdfSync("sha256", current.key, Buffer.alloc(0), purpose, 32));
    },
  };
}

/**
 * Keys from CREDENTIALS_KEYS, or on the embedded default a key file created once in DATA_DIR so a
 * fresh clone needs no setup (production sets CREDENTIALS_KEYS).
 */
export function vaultFromConfig(opts: { keys?: string; keyFile: string }): Vault {
  if (opts.keys) return createVault(parseKeys(opts.keys));
  if (!existsSync(opts.keyFile)) {
    mkdirSync(dirname(opts.keyFile), { recursive: true });
    writeFileSync(opts.keyFile, `local:${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  }
  return createVault(parseKeys(readFileSync(opts.keyFile, "utf8")));
}

export function randomVault(): Vault {
  return createVault([{ id: "test", key: randomBytes(32) }]);
}
