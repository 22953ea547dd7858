import type { ZodTypeAny } from 'zod';
import { TRIGGERS, type TriggerType } from '../../../../../libs/contracts/src/triggers';

/** Prints a zod schema of the trigger catalogue as a TypeScript type (the subset the catalogue uses). */
export function zodToTs(schema: ZodTypeAny, indent = ''): string {
  const def = schema._def as { typeName: string; [k: string]: any };
  const inner = indent + '  ';
  switch (def.typeName) {
    case 'ZodString':
      return 'string';
    case 'ZodNumber':
      return 'number';
    case 'ZodBoolean':
      return 'boolean';
    case 'ZodUnknown':
    case 'ZodAny':
      return 'unknown';
    case 'ZodNull':
      return 'null';
    case 'ZodLiteral':
      return JSON.stringify(def.value);
    case 'ZodEnum':
      return (def.values as string[]).map((v) => JSON.stringify(v)).join(' | ');
    case 'ZodOptional':
    case 'ZodNullable': {
      const t = zodToTs(def.innerType, indent);
      return def.typeName === 'ZodNullable' ? `${t} | null` : t;
    }
    case 'ZodDefault':
      return zodToTs(def.innerType, indent);
    case 'ZodEffects':
      return zodToTs(def.schema, indent);
    case 'ZodArray':
      return `Array<${zodToTs(def.type, indent)}>`;
    case 'ZodRecord':
      return `Record<string, ${zodToTs(def.valueType, indent)}>`;
    case 'ZodUnion':
      return (def.options as ZodTypeAny[]).map((o) => zodToTs(o, indent)).join(' | ');
    case 'ZodObject': {
      const shape = (typeof def.shape === 'function' ? def.shape() : def.shape) as Record<string, ZodTypeAny>;
      const lines = Object.entries(shape).map(([k, v]) => {
        const optional = (v._def as { typeName: string }).typeName === 'ZodOptional' ? '?' : '';
        const key = /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k);
        return `${inner}${key}${optional}: ${zodToTs(v, inner)};`;
      });
      if (def.unknownKeys === 'passthrough') lines.push(`${inner}[key: string]: unknown;`);
      return `{\n${lines.join('\n')}\n${indent}}`;
    }
    default:
      return 'unknown';
  }
}

/** `UserSentMessageEvent` for `user.sent.message`. */
export function eventTypeName(trigger: string): string {
  return (
    trigger
      .split(/[._]/)
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('') + 'Event'
  );
}

/** One interface per trigger type, generated from `TRIGGERS` (the payload a function receives as `event`). */
export function triggerEventTypings(): string {
  const out: string[] = ['/** Event payloads per trigger type (generated from chatfn\'s trigger catalogue). */'];
  for (const [type, t] of Object.entries(TRIGGERS) as [TriggerType, (typeof TRIGGERS)[TriggerType]][]) {
    out.push(`/** \`${type}\` — ${t.name}${t.blocking ? ' (blocking: throw to deny)' : ''}. */`);
    out.push(`interface ${eventTypeName(type)} ${zodToTs(t.payload as unknown as ZodTypeAny)}`);
  }
  return out.join('\n');
}

/**
 * The ambient declarations for a handler of `trigger`: `event` is that trigger's payload, `context` the runtime
 * context. `handleEvent` is declared so that writing `async function handleEvent(event, context)` gets the types.
 */
export function handlerTypings(trigger: string, contextTypings: string): string {
  const name = TRIGGERS[trigger as TriggerType] ? eventTypeName(trigger) : 'Record<string, unknown>';
  return [
    triggerEventTypings(),
    contextTypings,
    `/** The event of this function's trigger (\`${trigger}\`). */`,
    `type ChatFunctionEvent = ${name};`,
  ].join('\n\n');
}

export const TRIGGER_CATALOGUE = TRIGGERS;
