// teleop/: operator input and the recording session. Built in issue #9;
// nothing is exported yet.
export {};
