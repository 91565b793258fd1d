export interface SkipRecord {
  readonly suite: string;
  readonly missing?: readonly string[];
  readonly packages?: readonly string[];
  readonly reason?: string;
}
export function readSkips(log: string | undefined): SkipRecord[];
export function renderSkipSummary(skips: readonly SkipRecord[]): string | undefined;
