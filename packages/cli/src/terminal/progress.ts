import type { OutputStream } from "../io.js";

/** Files smaller than this finish before a bar would be worth drawing. */
export const PROGRESS_MIN_BYTES = 32 * 1024 * 1024;
const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function formatSeconds(seconds: number): string {
  const whole = Math.ceil(seconds);
  return whole < 60 ? `${whole} s` : `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
}

/**
 * One line of progress: label, bar, percentage, bytes done of total; with the time so far, the rate
 * and what is left. An unknown total (a server that announces no length) shows bytes and rate only.
 */
export function renderProgressLine(
  label: string,
  done: number,
  total: number | undefined,
  elapsedMs?: number,
): string {
  const rate = elapsedMs === undefined || elapsedMs <= 0 ? undefined : (done * 1000) / elapsedMs;
  const speed = rate === undefined ? "" : `, ${formatBytes(Math.round(rate))}/s`;
  if (total === undefined) return `${label} ${formatBytes(done)}${speed}`;
  const fraction = total === 0 ? 1 : Math.min(done / total, 1);
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const left =
    rate === undefined || rate === 0 || done >= total ? "" : `, ${formatSeconds((total - done) / rate)} left`;
  return `${label} [${bar}] ${percent} ${formatBytes(done)} / ${formatBytes(total)}${speed}${left}`;
}

export interface Progress {
  update(done: number, total: number | undefined): void;
  finish(): void;
}

const silent: Progress = { update() {}, finish() {} };

/** A redrawn line on stderr, only when stderr is a terminal; otherwise nothing at all. */
export function progressOnTerminal(stream: OutputStream, label: string, now = Date.now): Progress {
  if (stream.isTTY !== true) return silent;
  let lastDraw = 0;
  let drawn = false;
  const started = now();
  return {
    update(done, total) {
      if ((total ?? done) < PROGRESS_MIN_BYTES) return;
      const time = now();
      if (time - lastDraw < REDRAW_MS && (total === undefined || done < total)) return;
      lastDraw = time;
      drawn = true;
      stream.write(`\r\u001b[2K${renderProgressLine(label, done, total, time - started)}`);
    },
    finish() {
      if (drawn) stream.write("\r\u001b[2K");
    },
  };
}
