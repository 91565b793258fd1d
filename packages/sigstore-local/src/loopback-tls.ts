import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Certificates for an HTTPS server on loopback, made fresh for one test run. */
export interface LoopbackTls {
  readonly caCert: string;
  readonly leafKey: string;
  readonly leafCert: string;
  readonly rogueKey: string;
  readonly rogueCert: string;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * A throwaway CA, a leaf for IP 127.0.0.1 and the name upstream.test (or the names given) signed by it, and a self-signed
 * rogue leaf for the same IP, made with openssl in a temporary directory that is removed after.
 */
export async function loopbackTls(
  options: { readonly dnsNames?: readonly string[] } = {},
): Promise<LoopbackTls> {
  const names = (options.dnsNames ?? ["upstream.test"]).map((name) => `DNS:${name}`).join(",");
  const dir = await mkdtemp(join(tmpdir(), "ironclaw-loopback-tls-"));
  try {
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    openssl(
      "req",
      "-x509",
      ...EC,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=ironclaw loopback test CA",
    );
    openssl("req", "-new", ...EC, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1");
    await writeFile(
      join(dir, "leaf.ext"),
      `subjectAltName=IP:127.0.0.1,${names}\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n`,
    );
    openssl(
      ..."x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 0x1234 -days 2 -extfile leaf.ext -out leaf.pem".split(
        " ",
      ),
    );
    openssl(
      "req",
      "-x509",
      ...EC,
      "-keyout",
      "rogue.key",
      "-out",
      "rogue.pem",
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
    );
    const read = (name: string) => readFile(join(dir, name), "utf8");
    return {
      caCert: await read("ca.pem"),
      leafKey: await read("leaf.key"),
      leafCert: await read("leaf.pem"),
      rogueKey: await read("rogue.key"),
      rogueCert: await read("rogue.pem"),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
