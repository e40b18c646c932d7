/**
 * A value built on first use and kept. For zod schemas that most runs never use: building them
 * when their module loads cost milliseconds of every command's start-up.
 */
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}
