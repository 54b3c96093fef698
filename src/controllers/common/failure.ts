// failureReason and failureMessage: set while something has failed, gone as soon as it has not.
interface WithFailure {
  failureReason?: string;
  failureMessage?: string;
}

export function setFailure(
  status: WithFailure,
  failure: { reason: string; message: string } | undefined,
): void {
  if (failure) {
    status.failureReason = failure.reason;
    status.failureMessage = failure.message;
  } else {
    delete status.failureReason;
    delete status.failureMessage;
  }
}
