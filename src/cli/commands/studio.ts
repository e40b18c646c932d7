import { InvalidInputError } from '../../errors.js';
import { minibatchHome } from '../../logs/run-directory.js';
import { createStudioServer, isLoopback, newToken } from '../../studio/studio-server.js';

/** `minibatch studio [--port 8265] [--host 127.0.0.1]`: the web app over this home's runs, until stopped. */
export async function studioCommand(options: { port?: string; host?: string }): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const port = Number(options.port ?? 8265);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidInputError('E_USAGE', `--port: expected a port number from 0 to 65535, got "${options.port}"`);
  // Beyond loopback anyone on the network could reach it: a token is required then.
  const token = isLoopback(host) ? undefined : (process.env.MINIBATCH_STUDIO_TOKEN ?? newToken());
  const home = minibatchHome();
  const server = createStudioServer({ home, host, port, token });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new InvalidInputError('E_USAGE', `--port ${port}: already in use on ${host}; choose another with --port`) : error));
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  // One write: a reader that sees the link sees the token's explanation with it.
  const tokenNote = token ? `  bound to ${host}: every request needs this token (the link above sets it once in a browser; scripts send Authorization: Bearer <token>)\n` : '';
  process.stdout.write(`minibatch studio: runs of ${home}\n  http://${shown}:${actualPort}/${token ? `?token=${token}` : ''}\n${tokenNote}`);
  await new Promise<void>((resolve) => {
    // Open event streams would keep close() waiting forever: end them too.
    const stop = () => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
