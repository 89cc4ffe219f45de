// The .onnx custom editor's view type, shared by the provider and package.json's tests.
export const ONNX_EDITOR_VIEW_TYPE = 'lipschitzLens.onnxEditor';
