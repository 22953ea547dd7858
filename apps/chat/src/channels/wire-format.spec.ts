import { fromWire, toWire } from './wire-format';

describe('toWire', () => {
  it('renders camelCase resources in the SDK wire shape, leaving isGuest, HAL keys and properties alone', () => {
    expect(
      toWire({
        id: 1,
        createdTime: 't',
        lastReceivedMessage: { channelId: 2, nestedLevel: 0, properties: { fooBar: { bazQux: 1 } } },
        creator: { displayName: 'A', isGuest: false, presence: { online: true } },
        _links: { self: { href: 'x' } },
        members: [{ displayPictureUrl: 'u' }],
        skipped: undefined,
      }),
    ).toEqual({
      id: 1,
      created_time: 't',
      last_received_message: { channel_id: 2, nested_level: 0, properties: { fooBar: { bazQux: 1 } } },
      creator: { display_name: 'A', isGuest: false, presence: { online: true } },
      _links: { self: { href: 'x' } },
      members: [{ display_picture_url: 'u' }],
    });
  });
});

describe('fromWire', () => {
  it('turns wire resources back into camelCase and is the inverse of toWire', () => {
    const camel = {
      id: 1,
      createdTime: 't',
      lastReceivedMessage: { channelId: 2, nestedLevel: 0, properties: { foo_bar: { baz_qux: 1 } } },
      creator: { displayName: 'A', isGuest: false, presence: { online: true } },
      _links: { self: { href: 'x' } },
      members: [{ displayPictureUrl: 'u' }],
    };
    expect(fromWire(toWire(camel))).toEqual(camel);
    expect(toWire(toWire(camel))).toEqual(toWire(camel));
  });
});
