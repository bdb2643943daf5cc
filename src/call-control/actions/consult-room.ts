/** The consult room of a room: where a human is briefed before joining the call. */
export function consultRoom(room: string): string {
  return `${room.slice(0, 120)}-consult`;
}
