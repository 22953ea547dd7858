#!/usr/bin/env node
/**
 * chatfn command line: talks to a running installation's admin API.
 *
 *   chatfn applications create --name NAME [--url http://127.0.0.1:8080] [--admin-token TOKEN] [--json]
 *   chatfn applications list [--url ...] [--admin-token ...] [--json]
 *
 * The admin token defaults to the CHATFN_ADMIN_TOKEN environment variable, the URL to CHATFN_PUBLIC_URL or
 * http://127.0.0.1:8080. Plain Node (global fetch), no framework: it runs wherever `node` does.
 */

interface Args {
  positional: string[];
  flags: Record<string, string | true>;
}

export function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[a.slice(2)] = argv[++i];
      else flags[a.slice(2)] = true;
    } else positional.push(a);
  }
  return { positional, flags };
}

const USAGE = `usage:
  chatfn applications create --name NAME [--url URL] [--admin-token TOKEN] [--json]
  chatfn applications list [--url URL] [--admin-token TOKEN] [--json]

  --url          chatfn base URL (default: $CHATFN_PUBLIC_URL or http://127.0.0.1:8080)
  --admin-token  admin API token (default: $CHATFN_ADMIN_TOKEN)`;

class CliError extends Error {}

async function call(url: string, token: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new CliError(`cannot reach chatfn at ${url}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const msg = (json as { message?: string } | undefined)?.message ?? text;
    throw new CliError(`${method} ${path} failed: ${res.status} ${msg}`);
  }
  return json;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, out: (s: string) => void = console.log): Promise<number> {
  const { positional, flags } = parseArgs(argv);
  if (flags.help || positional.length < 2) {
    out(USAGE);
    return flags.help ? 0 : 2;
  }
  const url = String(flags.url ?? env.CHATFN_PUBLIC_URL ?? 'http://127.0.0.1:8080');
  const token = flags['admin-token'] ?? env.CHATFN_ADMIN_TOKEN;
  if (!token || token === true) throw new CliError('an admin token is required: --admin-token TOKEN or CHATFN_ADMIN_TOKEN');
  const [group, command] = positional;
  if (group !== 'applications') throw new CliError(`unknown command group ${group}\n${USAGE}`);
  if (command === 'create') {
    if (!flags.name || flags.name === true) throw new CliError('--name is required');
    const app = (await call(url, token, 'POST', '/admin/applications', { name: flags.name })) as Record<string, unknown>;
    if (flags.json) out(JSON.stringify(app, null, 2));
    else {
      out(`Created application "${app.name}" (id ${app.id})`);
      out(`  client_id      ${app.client_id}`);
      out(`  client_secret  ${app.client_secret}   (shown once: store it now)`);
      out(`  api_key        ${app.api_key}`);
    }
    return 0;
  }
  if (command === 'list') {
    const r = (await call(url, token, 'GET', '/admin/applications')) as { applications: Record<string, unknown>[] };
    if (flags.json) out(JSON.stringify(r.applications, null, 2));
    else for (const a of r.applications) out(`${a.id}\t${a.name}\t${a.client_id}\t${a.created_time}`);
    return 0;
  }
  throw new CliError(`unknown command applications ${command}\n${USAGE}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof CliError ? `chatfn: ${e.message}` : e);
      process.exit(1);
    },
  );
}
