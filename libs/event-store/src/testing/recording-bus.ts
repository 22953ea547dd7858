import { Envelope } from '@chatfn/contracts';
import { MessageBus, Subscription } from '@chatfn/messaging';

/** Records what the relay publishes; `failNext` makes that many calls throw, `hold()` makes calls hang. */
export class RecordingBus extends MessageBus {
  calls = 0;
  failNext = 0;
  private held?: Promise<void>;
  private release?: () => void;

  /** Buses given one `published` array record into it in publish order, like relays sharing one broker. */
  constructor(readonly published: Envelope[] = []) {
    super('test');
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async ready(): Promise<boolean> {
    return true;
  }

  async publishEnvelopes(envelopes: Envelope[]): Promise<void> {
    this.calls++;
    if (this.held) await this.held;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('bus unavailable');
    }
    this.published.push(...envelopes);
  }

  /** Calls from now on wait until `unhold()`; returns the bus. */
  hold(): this {
    this.held = new Promise((resolve) => (this.release = resolve));
    return this;
  }

  unhold(): void {
    this.held = undefined;
    this.release?.();
  }

  protected subscribeRaw(): Promise<Subscription> {
    throw new Error('RecordingBus only records publishes');
  }
  protected requestRaw(): Promise<unknown> {
    throw new Error('RecordingBus only records publishes');
  }
  protected respondRaw(): Promise<Subscription> {
    throw new Error('RecordingBus only records publishes');
  }
}
