import type { CliCommand } from '../cli/command.ts';
import { listPorts, type PortInfo } from './index.ts';

/** `adexwb ports`: the serial ports a bridge board could be on. */
export const portsCommand: CliCommand = {
  name: 'ports',
  summary: 'List serial ports (bridge boards appear as USB serial devices)',
  options: {},
  async run(_args, io) {
    const ports = await listPorts();
    io.result(ports, (list: PortInfo[]) =>
      list.length === 0
        ? 'no serial ports found'
        : list
            .map((p) =>
              [p.path, p.manufacturer, p.serialNumber, p.vendorId && `${p.vendorId}:${p.productId}`]
                .filter(Boolean)
                .join('  '),
            )
            .join('\n'),
    );
    return 0;
  },
};
