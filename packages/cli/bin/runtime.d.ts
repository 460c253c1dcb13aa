export declare const DAEMON_NODE_FLAGS: string[]
export declare const DAEMON_ENV: Record<string, string>
export declare const JEMALLOC_CONF: string
export declare function daemonEnv (env?: Record<string, string | undefined>, exists?: (path: string) => boolean, warn?: (line: string) => void): Record<string, string>
export declare function handedOver (): boolean
export declare function dieWithLauncher (): void
export declare function runsLong (args: string[]): boolean
export declare function handOver (node: string, script: string, args: string[], settings?: { flags?: string[], env?: Record<string, string> }): void
