import { type ParseArgsConfig, parseArgs } from "node:util";
import { InvalidInputError } from "@/lib/registry";

export type Out = {
  json: boolean;
  print: (text: string) => void;
  printJson: (value: unknown) => void;
  /** Reads standard input (for --password-stdin); tests pass their own. */
  stdin?: () => Promise<string>;
};

export const common = { root: { type: "string" }, json: { type: "boolean" } } as const;

/** Strict flag parsing: an unknown flag or extra argument is bad usage (exit 2), with a hint. */
export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T, positionals = 0) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new InvalidInputError(`${(e as Error).message}. Run \`registry --help\` for usage.`);
  }
  if (parsed.positionals.length > positionals) {
    throw new InvalidInputError(`Unexpected argument "${parsed.positionals[positionals]}".`);
  }
  return parsed;
}
