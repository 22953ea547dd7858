import { eventTypeName, handlerTypings, triggerEventTypings, zodToTs } from './trigger-typings';
import { z } from 'zod';

describe('trigger typings for the editor', () => {
  it('prints zod objects as TypeScript types', () => {
    const s = z.object({ a: z.string(), b: z.number().int().optional(), c: z.enum(['X', 'Y']), d: z.record(z.unknown()) }).passthrough();
    expect(zodToTs(s)).toBe(
      '{\n  a: string;\n  b?: number;\n  c: "X" | "Y";\n  d: Record<string, unknown>;\n  [key: string]: unknown;\n}',
    );
  });

  it('names one interface per trigger type', () => {
    expect(eventTypeName('user.sent.message')).toBe('UserSentMessageEvent');
    const d = triggerEventTypings();
    expect(d).toContain('interface UserSentMessageEvent {');
    expect(d).toContain('interface UserAttemptedStartSessionEvent {');
    expect(d).toMatch(/interface UserSentMessageEvent \{\n {2}user: \{\n {4}id: number;/);
    expect(d).toContain('type: "TEXT" | "FILE" | "SYSTEM_TEXT" | "SYSTEM_FILE";');
  });

  it('binds ChatFunctionEvent to the trigger of the function', () => {
    expect(handlerTypings('user.read.message', '')).toContain('type ChatFunctionEvent = UserReadMessageEvent;');
  });
});
