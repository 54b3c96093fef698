// Where the dev commands write what a person reads (tests pass their own).

export interface Out {
  line(text?: string): void;
}

export const stdoutOut: Out = { line: (text = '') => process.stdout.write(`${text}\n`) };
