/**
 * The repeated-failure rule of polling nodes: a failure is reported once per
 * distinct reason, then only shown in the status, until a read succeeds
 * again. (A read triggered by a message always reports; it does not use this.)
 */
export class RepeatedFailureGate {
  private lastReason: string | undefined;

  /** True when a failure with this reason is to be reported (the first since the last success or another reason). */
  shouldReport(reason: string): boolean {
    if (reason === this.lastReason) return false;
    this.lastReason = reason;
    return true;
  }

  /** A success: the next failure is reported again. */
  succeeded(): void {
    this.lastReason = undefined;
  }
}

/** What makes two failures "the same": the code and message of every failed tag, or of the one error. */
export function failureReason(error: { code?: unknown; message: string }, perTag?: Readonly<Record<string, string>>): string {
  if (perTag !== undefined) return JSON.stringify(Object.entries(perTag).sort(([a], [b]) => a.localeCompare(b)));
  return `${String(error.code ?? "")} ${error.message}`;
}
