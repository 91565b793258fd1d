import { describe, expect, it } from "vitest";
import { seccompArch, seccompFilter } from "../src/seccomp.js";

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

function decode(bytes: Uint8Array): Instruction[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const program: Instruction[] = [];
  for (let offset = 0; offset < bytes.length; offset += 8)
    program.push({
      code: view.getUint16(offset, true),
      jt: view.getUint8(offset + 2),
      jf: view.getUint8(offset + 3),
      k: view.getUint32(offset + 4, true),
    });
  return program;
}

/** A tiny classic-BPF interpreter, enough for this filter: what does it return for a syscall? */
function run(program: Instruction[], data: { arch: number; nr: number; arg0?: number }): number {
  let a = 0;
  let pc = 0;
  for (let steps = 0; steps < 10_000; steps++) {
    const ins = program[pc];
    if (ins === undefined) throw new Error(`fell off the program at ${pc}`);
    switch (ins.code) {
      case 0x20:
        a = ins.k === 0 ? data.nr : ins.k === 4 ? data.arch : ins.k === 16 ? (data.arg0 ?? 0) : Number.NaN;
        pc++;
        break;
      case 0x15:
        pc += 1 + (a === ins.k ? ins.jt : ins.jf);
        break;
      case 0x35:
        pc += 1 + (a >>> 0 >= ins.k >>> 0 ? ins.jt : ins.jf);
        break;
      case 0x45:
        pc += 1 + ((a & ins.k) !== 0 ? ins.jt : ins.jf);
        break;
      case 0x06:
        return ins.k >>> 0;
      default:
        throw new Error(`unknown opcode ${ins.code}`);
    }
  }
  throw new Error("no return");
}

const X64 = 0xc000003e;
const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KILL = 0x80000000;

describe("seccompFilter", () => {
  const program = decode(seccompFilter("x64"));

  it("is a whole number of sock_filter entries, within the kernel's 4096", () => {
    expect(seccompFilter("x64").length % 8).toBe(0);
    expect(program.length).toBeLessThan(4096);
    expect(seccompFilter("arm64").length % 8).toBe(0);
  });

  it("kills a syscall made through another architecture's ABI", () => {
    expect(run(program, { arch: 0x40000003, nr: 1 })).toBe(KILL);
  });

  it("refuses ptrace, mount, unshare, setns, bpf and keyctl with EPERM", () => {
    for (const nr of [101, 165, 272, 308, 321, 250, 310])
      expect(run(program, { arch: X64, nr }), `nr ${nr}`).toBe(EPERM);
  });

  it("answers clone3, io_uring and x32 calls with ENOSYS, so callers fall back", () => {
    for (const nr of [435, 425, 426, 427, 0x40000001])
      expect(run(program, { arch: X64, nr }), `nr ${nr}`).toBe(ENOSYS);
  });

  it("lets clone make threads and processes, not namespaces", () => {
    const CLONE_THREAD_FLAGS = 0x003d0f00;
    expect(run(program, { arch: X64, nr: 56, arg0: CLONE_THREAD_FLAGS })).toBe(ALLOW);
    expect(run(program, { arch: X64, nr: 56, arg0: 0x11 })).toBe(ALLOW);
    expect(run(program, { arch: X64, nr: 56, arg0: 0x10000000 | 0x11 })).toBe(EPERM);
    expect(run(program, { arch: X64, nr: 56, arg0: 0x40000000 })).toBe(EPERM);
  });

  it("allows what Node needs", () => {
    for (const nr of [0, 1, 2, 3, 9, 59, 231, 257, 262, 41, 42])
      expect(run(program, { arch: X64, nr }), `nr ${nr}`).toBe(ALLOW);
  });

  it("knows x64 and arm64 only", () => {
    expect(seccompArch("x64")).toBe("x64");
    expect(seccompArch("arm64")).toBe("arm64");
    expect(seccompArch("ia32")).toBeUndefined();
  });
});
