import type { CliCommand } from '../cli/command.ts';
import { portsCommand } from './ports.command.ts';
import { recordCommand } from './record.command.ts';
import { virtualDeviceCommand } from './virtual-device.command.ts';

/** The hardware-bridge subcommands: `ports`, `record`, `virtual-device`. */
export const bridgeCommands: CliCommand[] = [portsCommand, recordCommand, virtualDeviceCommand];
