/** FID of the PIN-protected data object `CD id` (1..255; card-protocols.md §3.1). */
export function protectedDataFid(id: number): number {
  if (!Number.isInteger(id) || id < 1 || id > 0xff) throw new RangeError(`data object id ${id} is not in 1..255`);
  return 0xcd00 | id;
}
