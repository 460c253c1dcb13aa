export declare const BUNDLE_DIRECTORY: string
export declare function bundledMain (options?: { directory?: string, env?: Record<string, string | undefined> }): Promise<string | undefined>
