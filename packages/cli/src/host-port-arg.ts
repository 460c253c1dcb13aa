import { UsageError } from './errors.ts'

/** Reads a `--http HOST:PORT` flag; an IPv6 host goes in brackets */
export function parseHostPort (value: string): { host: string, port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value)
  const port = Number(match?.[3])
  if (match == null || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`"${value}" is not HOST:PORT (for example 127.0.0.1:7420 or [::1]:7420)`)
  }
  return { host: match[1] ?? match[2] ?? '', port }
}
