/** Types of relaunch.js (plain JavaScript, so that it runs without a build). */
export declare function watchParent(): void;
export declare function runsHere(command: string | undefined): boolean;
export declare function relaunch(): Promise<never>;
