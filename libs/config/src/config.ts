import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ChatfnEnv, ConfigSchema } from './config.schema';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** The parsed configuration, injected typed (Nest token: this class). */
export class ChatfnConfig {
  readonly instanceId: string;
  readonly dataDir: string;
  readonly publicUrl: string;

  constructor(readonly env: Readonly<ChatfnEnv>) {
    this.instanceId = env.CHATFN_INSTANCE_ID ?? `${hostname()}-${process.pid}`;
    this.dataDir = resolve(env.CHATFN_DATA_DIR);
    this.publicUrl = (env.CHATFN_PUBLIC_URL ?? `http://127.0.0.1:${env.PORT}`).replace(/\/$/, '');
  }

  get kafkaBrokers(): string[] | undefined {
    return this.env.KAFKA_BROKERS && this.env.KAFKA_BROKERS.length > 0 ? this.env.KAFKA_BROKERS : undefined;
  }
}

/** Parses the environment once; every problem is reported with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ChatfnConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '?');
        const got = input[name] !== undefined ? ` (got ${JSON.stringify(redact(name, input[name]))})` : '';
        return `${name}: ${i.message}${got}`;
      }),
    );
  }
  return new ChatfnConfig(parsed.data);
}

function redact(name: string, value: string): string {
  return /SECRET|TOKEN|KEY|PASSWORD/.test(name) ? '***' : value;
}
