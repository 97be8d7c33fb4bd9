/** The one place the system reads the time, so tests can move it. */
export const clock = {
  now: (): Date => new Date(),
};
