/** An error a dashboard page renders as HTML (status, title, a sentence saying what to do). */
export class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
    this.name = "PageError";
  }
}
