import { PreparedMessage, StompParser } from './stomp/stomp-frame';
import { TopicHub, TopicSubscriber } from './topic-hub';

/** A subscriber that renders frames the way `StompConnection.deliverPrepared` does. */
class FrameSink implements TopicSubscriber {
  readonly frames: string[] = [];
  private n = 0;
  constructor(readonly applicationId: number) {}
  deliverPrepared(message: PreparedMessage, subscriptionLine: string): void {
    this.frames.push(`${message.head}${subscriptionLine}message-id:${++this.n}\n${message.tail}`);
  }
}

/** Client frames and server frames share the grammar, so the gateway's own parser reads MESSAGE frames back. */
const parse = (frame: string) => {
  // The parser accepts client commands only: read the MESSAGE as a SEND.
  return new StompParser(1 << 20).push(frame.replace(/^MESSAGE\n/, 'SEND\n'))[0];
};

describe('TopicHub', () => {
  it('serializes an event once and writes it to every subscription of the application, escaping header values', () => {
    const hub = new TopicHub();
    const a = new FrameSink(1);
    const b = new FrameSink(1);
    const other = new FrameSink(2);
    hub.add('/topic/channels/7/messages', a, 'sub:1');
    hub.add('/topic/channels/7/messages', a, 'sub-2');
    hub.add('/topic/channels/7/messages', b, 'x');
    hub.add('/topic/channels/7/messages', other, 'y');
    const stringify = jest.spyOn(JSON, 'stringify');
    const n = hub.publish(1, '/topic/channels/7/messages', 'channel.message.created', { id: 5, body: 'héllo\n' });
    expect(stringify).toHaveBeenCalledTimes(1);
    stringify.mockRestore();
    expect(n).toBe(3);
    expect(other.frames).toEqual([]);
    const frames = [...a.frames, ...b.frames].map(parse);
    expect(frames.map((f) => f.headers.subscription)).toEqual(['sub:1', 'sub-2', 'x']);
    for (const f of frames) {
      expect(f.headers.destination).toBe('/topic/channels/7/messages');
      expect(JSON.parse(f.body)).toEqual({ type: 'channel.message.created', version: 'v1', resource: { id: 5, body: 'héllo\n' } });
    }
    expect(new Set(a.frames.map((f) => parse(f).headers['message-id'])).size).toBe(2);
  });

  it('skips the sender and forgets removed subscriptions', () => {
    const hub = new TopicHub();
    const a = new FrameSink(1);
    const b = new FrameSink(1);
    hub.add('/t', a, '1');
    hub.add('/t', b, '2');
    expect(hub.publish(1, '/t', 'e', {}, a)).toBe(1);
    hub.remove('/t', b, '2');
    expect(hub.subscriptionsOf('/t', b)).toEqual([]);
    hub.remove('/t', a, '1');
    expect(hub.hasSubscribers('/t')).toBe(false);
    expect(hub.publish(1, '/t', 'e', {})).toBe(0);
  });
});
