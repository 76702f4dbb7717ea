export { exportClassifier, composeClassifier, LABELS_METADATA_KEY, type ClassifierLayer, type ExportClassifierOptions, type ExportedClassifier } from './classifier.js';
