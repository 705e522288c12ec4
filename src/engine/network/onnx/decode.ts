// Bytes → onnx.ModelProto, decoded by the generated protobufjs module of the ONNX schema (onnx-proto), with
// every way a file can fail to be an ONNX model turned into one line that says what the file looks like.

import { onnx } from 'onnx-proto';
import { UserError } from '../../errors';

const EXPORT_HINT = 'export it again with torch.onnx.export(model, example_input, "model.onnx") or tf2onnx';

/** What a non-ONNX file most likely is, from its first bytes (users rename things). */
function lookalike(head: Buffer): string | null {
  const ascii = head.toString('latin1');
  if (ascii.startsWith('PK\x03\x04')) return 'a zip archive (a PyTorch torch.save() checkpoint or a .keras file?)';
  if (head[0] === 0x80 && head[1] !== undefined && head[1] <= 5) return 'a Python pickle (torch.save() of a model or state_dict?)';
  if (ascii.startsWith('\x89HDF')) return 'an HDF5 file (a Keras .h5 model?)';
  if (ascii.startsWith('version https://git-lfs')) return 'a Git LFS pointer, not the file itself (run git lfs pull)';
  if (/^\s*[{[]/.test(ascii)) return 'a JSON file (give JSON models their .json name)';
  if (ascii.startsWith('\x93NUMPY')) return 'a NumPy .npy array';
  return null;
}

/** Decodes an ONNX model file's bytes. Throws a UserError for anything that is not a complete ONNX model. */
export function decodeModel(bytes: Buffer, file: string): onnx.ModelProto {
  if (bytes.length === 0) throw new UserError(`the file is empty; ${EXPORT_HINT}`, file);
  const like = lookalike(bytes.subarray(0, 16));
  if (like) throw new UserError(`not an ONNX model: the file is ${like}; ${EXPORT_HINT}`, file);
  // A ModelProto starts with a field tag; wire types 3, 4 (groups), 6 and 7 do not exist in proto3.
  const wireType = bytes[0] & 7;
  if (bytes[0] >> 3 === 0 || wireType === 3 || wireType === 4 || wireType > 5)
    throw new UserError(`not an ONNX model: byte 0 (0x${bytes[0].toString(16).padStart(2, '0')}) does not start a protobuf message; ${EXPORT_HINT}`, file);
  let model: onnx.ModelProto;
  try {
    // A plain Uint8Array view: protobufjs 6 allocates empty bytes fields of a Buffer with the deprecated new Buffer(0).
    model = onnx.ModelProto.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    const msg = String((e as Error).message ?? e);
    const range = /index out of range: (\d+) \+ (\d+) > (\d+)/.exec(msg);
    if (range || /out of range/.test(msg))
      throw new UserError(`the file is truncated: its protobuf data ${range ? `needs more than the ${range[3]} bytes there are` : 'ends in the middle of a field'}; copy or download it again, or ${EXPORT_HINT}`, file);
    throw new UserError(`not an ONNX model, or a damaged one: the protobuf decoder stopped with "${msg.split('\n')[0]}"; ${EXPORT_HINT}`, file);
  }
  if (!model.graph || !model.graph.node?.length) {
    throw new UserError(`not an ONNX model, or a truncated one: it has no graph with nodes; ${EXPORT_HINT}`, file);
  }
  if (model.opsetImport.length === 0) {
    throw new UserError(`the file is truncated or not an ONNX model: it names no operator set (opset_import); ${EXPORT_HINT}`, file);
  }
  return model;
}

/** The version of the default ("" or "ai.onnx") operator set the model uses. */
export function defaultOpset(model: onnx.ModelProto): number {
  const own = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return own ? Number(own.version) : 0;
}
