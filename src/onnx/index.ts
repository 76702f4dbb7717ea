export { onnx, IR_VERSION, OPSET_VERSION, dtypeToOnnx, onnxToDtype, type DType as OnnxDType, type ModelProto, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.js';
export { OnnxGraphError, OnnxModelError, ParameterLayoutError } from './errors.js';
export { attr as onnxAttr, type Attr as OnnxAttr } from './attributes.js';
export { type InitSpec, initializeValues } from './init.js';
export { type TensorData, type TensorLike, makeTensorProto, readFloat32, readIntegers, tensorDims } from './tensor.js';
export { GraphBuilder, TRAINABLE_METADATA_KEY, type Value as GraphValue, type Dim as GraphDim, type GraphBuilderOptions, type BuildOptions, type ConvOptions, type PoolOptions, type GemmOptions } from './graph-builder.js';
export { saveModel, loadModel, serializeModel, parseModel, cloneModel } from './model-io.js';
export {
  listParameters,
  readParameters,
  writeParameters,
  parametersAsInputs,
  parameterFeeds,
  type ParameterInfo,
  type ParameterLayout,
  type ParameterSelector,
} from './parameters.js';
export * from './models/index.js';
export * from './autodiff/index.js';
