/**
 * A seccomp filter compiled here into classic BPF, for bwrap's `--seccomp FD`. Default allow, with a
 * deny list of the syscalls a Node runtime never needs and an escape would: tracing, mounting, new
 * namespaces, kernel modules and keyrings, bpf, perf, userfaultfd, io_uring. It is defence in depth
 * behind the dropped capabilities and the user namespace, not the boundary itself.
 */

const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 } as const;
export type SeccompArch = keyof typeof AUDIT_ARCH;

const EPERM = 1;
const ENOSYS = 38;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
const X32_SYSCALL_BIT = 0x40000000;
// CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
const CLONE_NEW_NAMESPACES = 0x7e020000;

// Offsets into struct seccomp_data (little-endian: the low word of args[0] is at 16).
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARG0_LOW = 16;

// BPF opcodes.
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

/** Syscalls refused with EPERM. Numbers per architecture; 424 and up are shared by all. */
const DENIED: Readonly<Record<string, Readonly<Record<SeccompArch, number>>>> = {
  ptrace: { x64: 101, arm64: 117 },
  process_vm_readv: { x64: 310, arm64: 270 },
  process_vm_writev: { x64: 311, arm64: 271 },
  mount: { x64: 165, arm64: 40 },
  umount2: { x64: 166, arm64: 39 },
  pivot_root: { x64: 155, arm64: 41 },
  chroot: { x64: 161, arm64: 51 },
  open_tree: { x64: 428, arm64: 428 },
  move_mount: { x64: 429, arm64: 429 },
  fsopen: { x64: 430, arm64: 430 },
  fsconfig: { x64: 431, arm64: 431 },
  fsmount: { x64: 432, arm64: 432 },
  fspick: { x64: 433, arm64: 433 },
  mount_setattr: { x64: 442, arm64: 442 },
  unshare: { x64: 272, arm64: 97 },
  setns: { x64: 308, arm64: 268 },
  init_module: { x64: 175, arm64: 105 },
  finit_module: { x64: 313, arm64: 273 },
  delete_module: { x64: 176, arm64: 106 },
  kexec_load: { x64: 246, arm64: 104 },
  kexec_file_load: { x64: 320, arm64: 294 },
  bpf: { x64: 321, arm64: 280 },
  perf_event_open: { x64: 298, arm64: 241 },
  userfaultfd: { x64: 323, arm64: 282 },
  keyctl: { x64: 250, arm64: 219 },
  add_key: { x64: 248, arm64: 217 },
  request_key: { x64: 249, arm64: 218 },
  open_by_handle_at: { x64: 304, arm64: 265 },
  name_to_handle_at: { x64: 303, arm64: 264 },
  acct: { x64: 163, arm64: 89 },
  swapon: { x64: 167, arm64: 224 },
  swapoff: { x64: 168, arm64: 225 },
  reboot: { x64: 169, arm64: 142 },
  syslog: { x64: 103, arm64: 116 },
  quotactl: { x64: 179, arm64: 60 },
};

/** Refused with ENOSYS, so libc and libuv fall back: clone3 to clone (whose flags we can inspect), io_uring to the thread pool. */
const UNIMPLEMENTED: Readonly<Record<string, Readonly<Record<SeccompArch, number>>>> = {
  clone3: { x64: 435, arm64: 435 },
  io_uring_setup: { x64: 425, arm64: 425 },
  io_uring_enter: { x64: 426, arm64: 426 },
  io_uring_register: { x64: 427, arm64: 427 },
};

const CLONE: Readonly<Record<SeccompArch, number>> = { x64: 56, arm64: 220 };

export const SECCOMP_DENIED_SYSCALLS: readonly string[] = [
  ...Object.keys(DENIED),
  ...Object.keys(UNIMPLEMENTED),
];

export function seccompArch(arch: string): SeccompArch | undefined {
  return arch === "x64" || arch === "arm64" ? arch : undefined;
}

interface Instruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

const op = (code: number, k: number, jt = 0, jf = 0): Instruction => ({ code, jt, jf, k });

/** The filter as struct sock_filter[] bytes, as `bwrap --seccomp` reads them. */
export function seccompFilter(arch: SeccompArch): Uint8Array {
  const program: Instruction[] = [
    // A syscall made through another ABI would be numbered differently: kill it.
    op(LD_W_ABS, OFFSET_ARCH),
    op(JEQ_K, AUDIT_ARCH[arch], 1, 0),
    op(RET_K, RET_KILL_PROCESS),
    op(LD_W_ABS, OFFSET_NR),
  ];
  if (arch === "x64") program.push(op(JGE_K, X32_SYSCALL_BIT, 0, 1), op(RET_K, RET_ERRNO | ENOSYS));
  for (const numbers of Object.values(DENIED))
    program.push(op(JEQ_K, numbers[arch], 0, 1), op(RET_K, RET_ERRNO | EPERM));
  for (const numbers of Object.values(UNIMPLEMENTED))
    program.push(op(JEQ_K, numbers[arch], 0, 1), op(RET_K, RET_ERRNO | ENOSYS));
  // clone() that asks for a new namespace is refused; thread and process creation pass.
  program.push(
    op(JEQ_K, CLONE[arch], 0, 3),
    op(LD_W_ABS, OFFSET_ARG0_LOW),
    op(JSET_K, CLONE_NEW_NAMESPACES, 0, 1),
    op(RET_K, RET_ERRNO | EPERM),
    op(RET_K, RET_ALLOW),
  );
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach((instruction, index) => {
    view.setUint16(index * 8, instruction.code, true);
    view.setUint8(index * 8 + 2, instruction.jt);
    view.setUint8(index * 8 + 3, instruction.jf);
    view.setUint32(index * 8 + 4, instruction.k, true);
  });
  return bytes;
}
