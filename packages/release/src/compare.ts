import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export interface TreeDifference {
  readonly name: string;
  /** Where the bytes first differ, or why the file cannot be compared. */
  readonly detail: string;
}

/** Every file of two directories, byte for byte: names missing on either side and the first differing offset. */
export async function compareTrees(left: string, right: string): Promise<TreeDifference[]> {
  const [leftNames, rightNames] = [await listFiles(left), await listFiles(right)];
  const differences: TreeDifference[] = [];
  for (const name of [...new Set([...leftNames, ...rightNames])].sort()) {
    if (!leftNames.includes(name)) differences.push({ name, detail: `only in ${right}` });
    else if (!rightNames.includes(name)) differences.push({ name, detail: `only in ${left}` });
    else {
      const offset = await firstDifference(join(left, name), join(right, name));
      if (offset !== undefined) differences.push({ name, detail: offset });
    }
  }
  return differences;
}

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const name = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) names.push(...(await listFiles(dir, name)));
    else names.push(name);
  }
  return names;
}

async function firstDifference(a: string, b: string): Promise<string | undefined> {
  const [sizeA, sizeB] = [(await stat(a)).size, (await stat(b)).size];
  const streamA = createReadStream(a, { highWaterMark: 1 << 20 })[Symbol.asyncIterator]();
  const streamB = createReadStream(b, { highWaterMark: 1 << 20 })[Symbol.asyncIterator]();
  try {
    return await compareStreams(streamA, streamB, sizeA, sizeB);
  } finally {
    await streamA.return?.();
    await streamB.return?.();
  }
}

async function compareStreams(
  streamA: AsyncIterator<unknown>,
  streamB: AsyncIterator<unknown>,
  sizeA: number,
  sizeB: number,
): Promise<string | undefined> {
  let offset = 0;
  let bufferA: Buffer = Buffer.alloc(0);
  let bufferB: Buffer = Buffer.alloc(0);
  for (;;) {
    if (bufferA.length === 0)
      bufferA = ((await streamA.next()).value as Buffer | undefined) ?? Buffer.alloc(0);
    if (bufferB.length === 0)
      bufferB = ((await streamB.next()).value as Buffer | undefined) ?? Buffer.alloc(0);
    if (bufferA.length === 0 || bufferB.length === 0) break;
    const length = Math.min(bufferA.length, bufferB.length);
    for (let i = 0; i < length; i++) {
      if (bufferA[i] !== bufferB[i])
        return `bytes differ from offset ${offset + i} (sizes ${sizeA} and ${sizeB})`;
    }
    offset += length;
    bufferA = bufferA.subarray(length);
    bufferB = bufferB.subarray(length);
  }
  return sizeA === sizeB
    ? undefined
    : `one file ends at offset ${Math.min(sizeA, sizeB)} (sizes ${sizeA} and ${sizeB})`;
}
