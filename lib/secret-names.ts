/**
 * Field names that hold a secret (password, confirm, token, API or private key, session, one-time code…),
 * whatever their schema says: the audit's scrubbing and the forms' kept values share this one rule. No
 * imports, so browser code may use it.
 */
const SECRET_NAME = /pass|pwd|secret|token|confirm|credential|api[-_]?key|private[-_]?key|session|cookie|otp/i;

/** True when a field's name says it holds a secret. Pure. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}
