import type { BuildLog } from '../drivers/artifact-builder';

/** Accumulates a build's output, bounded: keeps the head and the tail when it grows past `maxBytes`. */
export class BufferedBuildLog implements BuildLog {
  private head = '';
  private tail = '';
  private dropped = 0;
  private dirty = false;

  constructor(private readonly maxBytes = 256 * 1024) {}

  write(text: string): void {
    if (!text) return;
    this.dirty = true;
    const half = this.maxBytes / 2;
    if (this.head.length < half) {
      const room = half - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
    }
    if (!text) return;
    this.tail += text;
    if (this.tail.length > half) {
      this.dropped += this.tail.length - half;
      this.tail = this.tail.slice(-half);
    }
  }

  line(text: string): void {
    this.write(`[builder ${new Date().toISOString()}] ${text}\n`);
  }

  /** True once since the last call when something was written. */
  takeDirty(): boolean {
    const d = this.dirty;
    this.dirty = false;
    return d;
  }

  toString(): string {
    return this.dropped ? `${this.head}\n... (${this.dropped} characters left out) ...\n${this.tail}` : this.head + this.tail;
  }
}
