import { WebSocket } from 'ws';
import { ChatKitty } from 'chatkitty';
import { FunctionDirectory } from '@chatfn/function-directory';
import { TestServer, waitFor } from '@chatfn/testing';
import { ExecutorModule } from '../../apps/executor/src/executor.module';
import { GATEWAY_FUNCTIONS } from '../../apps/chat/src/gateway/sessions/session-auth.service';
import { GatewayModule } from '../../apps/chat/src/gateway/gateway.module';

/** Node 20 has no global WebSocket; the unmodified @chatkitty/core checks for one when a session starts. */
export function installWebSocket(): void {
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
}

export type Json = Record<string, unknown>;

/** `$environment` pointing @chatkitty/core at a test server (`ws://` + `http://`). */
export function environment(server: TestServer): { host: string; secure: boolean } {
  return { host: new URL(server.url).host, secure: false };
}

/** Deploys a function version for a trigger through the SDK's RuntimeApi/FunctionsApi; waits until the gateway and executors see it. */
export async function deploy(server: TestServer, ck: ChatKitty, type: string, script: string): Promise<number> {
  const list = (await ck.RuntimeApi.listNodejsRuntimeFunctions(0, 100)).data as unknown as { _embedded?: { functions?: { id: number; type: string }[] } };
  let fn = list._embedded?.functions?.find((f) => f.type === type);
  if (!fn) fn = (await ck.RuntimeApi.createNodejsRuntimeFunction({ type, name: type, initialize_asynchronously: false } as never)).data as never;
  const v = (await ck.FunctionsApi.createFunctionVersion(fn!.id, { handler_script: script } as never)).data as unknown as { version_number?: number };
  const directories = [
    server.app.select(ExecutorModule).get(FunctionDirectory),
    server.app.select(GatewayModule).get<FunctionDirectory>(GATEWAY_FUNCTIONS),
  ];
  await waitFor(() => directories.every((d) => d.getById(fn!.id)?.currentVersionNumber === v.version_number && d.getById(fn!.id)?.enabled), {
    timeoutMs: 15_000,
    what: `function ${type} deployed`,
  });
  return fn!.id;
}

export async function invocations(ck: ChatKitty, fnId: number): Promise<Json[]> {
  const page = (await ck.FunctionsApi.listFunctionInvocations(fnId, 0, 100)).data as unknown as { _embedded?: Record<string, Json[]> };
  return Object.values(page._embedded ?? {})[0] ?? [];
}

/** Resolves with the first value `register`'s callback receives that satisfies `pred`. */
export function nextEvent<T>(register: (cb: (v: T) => void) => void, pred: (v: T) => boolean = () => true, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out waiting for a live event')), timeoutMs);
    register((v) => {
      if (pred(v)) {
        clearTimeout(t);
        resolve(v);
      }
    });
  });
}
