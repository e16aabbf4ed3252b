/**
 * Certificates made with the `openssl` command line (Debian's openssl; .ci/run
 * installs it), so that the verifier is tried on chains it did not make
 * itself. Every certificate is issued with `openssl ca`, which takes exact
 * start and end dates.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";

/** "rsa:2048", "rsa:1024", "ec:P-256", "ec:P-192", … */
export type KeySpec = `rsa:${number}` | `ec:${string}`;

export interface OpensslCertificate {
  name: string;
  certFile: string;
  keyFile: string;
  der: Buffer;
  pem: string;
  serialNumber: string;
}

export interface OpensslRequest {
  name: string;
  /** Absent: self-signed. */
  issuer?: OpensslCertificate;
  key?: KeySpec;
  ca?: boolean;
  pathLength?: number;
  /** keyUsage value, e.g. "critical,digitalSignature"; a default per kind when absent. */
  keyUsage?: string;
  /** Extra extension lines, e.g. "1.2.3.4 = critical,DER:05:00". */
  extra?: string[];
  /** "sha256" unless given. */
  md?: string;
  notBefore?: Date;
  notAfter?: Date;
  ipAddresses?: string[];
}

/** Whether `openssl` runs here; under CI its absence is a failure, not a skip. */
export function opensslVersion(): string | undefined {
  try {
    return execFileSync("openssl", ["version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

const DAY = 86_400_000;

function asn1Time(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

export class OpensslPki {
  readonly dir: string;
  private serial = 0x1000;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "s7-openssl-"));
    fs.mkdirSync(path.join(this.dir, "new"));
    fs.writeFileSync(path.join(this.dir, "index.txt"), "");
    fs.writeFileSync(
      path.join(this.dir, "ca.cnf"),
      ["[ca]", "default_ca = dflt", "[dflt]", "database = index.txt", "new_certs_dir = new", "serial = serial", "default_md = sha256", "policy = any", "unique_subject = no", "copy_extensions = none", "[any]", "commonName = supplied", ""].join("\n"),
    );
  }

  private run(args: string[]): string {
    return execFileSync("openssl", args, { cwd: this.dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }

  private generateKey(file: string, spec: KeySpec): void {
    const [kind, size] = spec.split(":") as [string, string];
    const opts = kind === "rsa" ? ["-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${size}`] : ["-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:${size}`];
    this.run(["genpkey", ...opts, "-out", file]);
  }

  issue(req: OpensslRequest): OpensslCertificate {
    const keyFile = `${req.name}.key`;
    const certFile = `${req.name}.pem`;
    this.generateKey(keyFile, req.key ?? "rsa:2048");
    this.run(["req", "-new", "-key", keyFile, "-subj", `/CN=${req.name}`, "-out", `${req.name}.csr`]);
    const ext = req.ca
      ? [`basicConstraints = critical,CA:TRUE${req.pathLength === undefined ? "" : `,pathlen:${req.pathLength}`}`, `keyUsage = ${req.keyUsage ?? "critical,keyCertSign,cRLSign"}`]
      : ["basicConstraints = critical,CA:FALSE", `keyUsage = ${req.keyUsage ?? "critical,digitalSignature,keyEncipherment"}`, "extendedKeyUsage = serverAuth"];
    ext.push("subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid");
    if (req.ipAddresses?.length) ext.push(`subjectAltName = ${req.ipAddresses.map((ip) => `IP:${ip}`).join(",")}`);
    ext.push(...(req.extra ?? []));
    fs.writeFileSync(path.join(this.dir, `${req.name}.ext`), `[ext]\n${ext.join("\n")}\n`);
    fs.writeFileSync(path.join(this.dir, "serial"), (this.serial++).toString(16) + "\n");
    const signer = req.issuer === undefined ? ["-selfsign", "-keyfile", keyFile] : ["-cert", req.issuer.certFile, "-keyfile", req.issuer.keyFile];
    this.run([
      "ca", "-config", "ca.cnf", "-batch", "-notext", ...signer, "-in", `${req.name}.csr`, "-out", certFile,
      "-extfile", `${req.name}.ext`, "-extensions", "ext", "-md", req.md ?? "sha256",
      "-startdate", asn1Time(req.notBefore ?? new Date(Date.now() - DAY)), "-enddate", asn1Time(req.notAfter ?? new Date(Date.now() + 365 * DAY)),
    ]);
    const pem = fs.readFileSync(path.join(this.dir, certFile), "utf8");
    const x = new X509Certificate(pem);
    return { name: req.name, certFile: path.join(this.dir, certFile), keyFile: path.join(this.dir, keyFile), der: x.raw, pem, serialNumber: x.serialNumber };
  }

  /** A DER CRL by `issuer` listing `revoked` (openssl ca -revoke, then -gencrl). */
  crl(issuer: OpensslCertificate, revoked: OpensslCertificate[]): Buffer {
    const signer = ["-cert", issuer.certFile, "-keyfile", issuer.keyFile];
    for (const r of revoked) this.run(["ca", "-config", "ca.cnf", "-revoke", r.certFile, ...signer]);
    const pem = `crl-${issuer.name}.pem`;
    this.run(["ca", "-config", "ca.cnf", "-gencrl", ...signer, "-crldays", "30", "-md", "sha256", "-out", pem]);
    return execFileSync("openssl", ["crl", "-in", pem, "-outform", "DER"], { cwd: this.dir });
  }

  /**
   * `openssl verify` of `leaf` with `anchors` as the only trust anchors and
   * `untrusted` as the intermediates: "OK", or the error code and text.
   */
  verify(leaf: OpensslCertificate, anchors: OpensslCertificate[], untrusted: OpensslCertificate[] = [], extra: string[] = []): { ok: boolean; output: string } {
    const anchorFile = path.join(this.dir, `anchors-${leaf.name}.pem`);
    fs.writeFileSync(anchorFile, anchors.map((a) => a.pem).join(""));
    const args = ["verify", "-x509_strict", "-auth_level", "2", "-CAfile", anchorFile, ...extra];
    if (untrusted.length > 0) {
      const file = path.join(this.dir, `untrusted-${leaf.name}.pem`);
      fs.writeFileSync(file, untrusted.map((u) => u.pem).join(""));
      args.push("-untrusted", file);
    }
    args.push(leaf.certFile);
    try {
      return { ok: true, output: this.run(args).trim() };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}`.trim() };
    }
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
