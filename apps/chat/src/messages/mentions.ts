/** A `<@username>` or `<#channel-name>` reference found in a text message body. */
export interface MentionToken {
  type: 'USER' | 'CHANNEL';
  /** The literal text, e.g. `<@jane>`. */
  tag: string;
  /** The username or channel name inside the tag. */
  name: string;
  startPosition: number;
  /** Index just past the tag's last character. */
  endPosition: number;
}

const MENTION = /<([@#])([^<>\s]{1,256})>/g;

/** Finds every mention tag in `body`, in order of appearance (pure; resolution against the database is separate). */
export function parseMentions(body: string): MentionToken[] {
  const out: MentionToken[] = [];
  for (const m of body.matchAll(MENTION)) {
    const start = m.index ?? 0;
    out.push({
      type: m[1] === '@' ? 'USER' : 'CHANNEL',
      tag: m[0],
      name: m[2],
      startPosition: start,
      endPosition: start + m[0].length,
    });
  }
  return out;
}
