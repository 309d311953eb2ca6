import { SpanStatusCode, type Span } from "@opentelemetry/api";

/**
 * Runs `work` as `span`'s work: a failure is recorded on the span (its exception, an error
 * status) and thrown on; the span ends either way. What every span the hub makes by hand does
 * around its work (a plan, a delivery, an event's handling).
 */
export async function spanning<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}
