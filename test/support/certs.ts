/** Certificates made by the tests at run time: nothing that can expire is stored in the repository. */
import { generateSelfSigned, type IssuedCertificate } from "../../src/pki/certificates.js";

export type TestCertificate = IssuedCertificate;

export function selfSignedCertificate(options: { commonName?: string; ipAddresses?: string[]; notBefore?: Date; notAfter?: Date } = {}): TestCertificate {
  return generateSelfSigned({
    commonName: options.commonName ?? "PLC_TEST",
    ipAddresses: options.ipAddresses ?? ["127.0.0.1"],
    ...(options.notBefore ? { notBefore: options.notBefore } : {}),
    ...(options.notAfter ? { notAfter: options.notAfter } : {}),
  });
}
