package resp

// Result is the outcome of one command sent among others, as in a pipeline
// or a transaction: the server's reply, or why there is none.
type Result struct {
	// Value is the reply; the zero Value when the command got none. An error
	// reply is both here (Kind KindError) and in Err.
	Value Value
	// Err is the command's error: an error reply from the server (a *Error),
	// or why the command was not sent or its reply was lost; nil on success.
	Err error
}
